// A small C++ target for process-probe tests: namespaces, classes with methods,
// overloads, a constructor, a template and a static member function.
#include <cstdio>
#include <string>

namespace geo {

struct Vec {
    int x, y;
    Vec(int x_, int y_) : x(x_), y(y_) {}
    int dot(const Vec &o) const { return x * o.x + y * o.y; }
    Vec scaled(int k) const;
    static Vec zero();
};

Vec Vec::scaled(int k) const
{
    return Vec(x * k, y * k);
}

Vec Vec::zero()
{
    return Vec(0, 0);
}

namespace util {
int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}
}  // namespace util

}  // namespace geo

int area(int w, int h)
{
    return w * h;
}

double area(double r)
{
    return 3.14159 * r * r;
}

template <typename T>
T twice(T v)
{
    return v + v;
}

class Counter {
public:
    explicit Counter(const std::string &name) : name_(name), n_(0) {}
    void bump(int by) { n_ += by; }
    int value() const { return n_; }
    const std::string &name() const { return name_; }

private:
    std::string name_;
    int n_;
};

int main(int argc, char **)
{
    geo::Vec a(1, 2), b(3, 4);
    Counter c("hits");
    for (int i = 0; i < argc + 2; i++)
        c.bump(a.dot(b));
    geo::Vec s = a.scaled(3);
    int r = geo::util::clamp(s.x + s.y, 0, 100) + area(2, 3) + twice(5)
            + static_cast<int>(area(1.0)) + static_cast<int>(twice(1.5))
            + geo::Vec::zero().x;
    std::printf("%s=%d r=%d\n", c.name().c_str(), c.value(), r);
    return 0;
}
